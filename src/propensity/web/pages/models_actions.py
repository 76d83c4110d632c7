"""The model owner's actions, admin only, each a form with its CSRF token: train a new model,
retrain a version, deploy it as a challenger, promote it now, decide or roll back its running
test, roll back to the model it replaced.

They make the ML-platform surface's core calls: `training.requests.queue_training` (a real
`train_model` job: the new version's page shows its progress live), and
`registry.deployments.start_deployment` / `evaluate` / `roll_back` and
`registry.lifecycle.set_status`, which commit. A refused action (a conflict, a bad value) comes
back to the model's page with the reason in words (post/redirect/get)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from fastapi import APIRouter
from fastapi.responses import RedirectResponse

from propensity.errors import InvalidInput, PropensityError
from propensity.models import DeploymentStatus, ModelVersion
from propensity.registry.deployments import deployment_of, evaluate, roll_back, start_deployment
from propensity.registry.lifecycle import set_status
from propensity.training.requests import (
    QueuedTraining,
    TrainingRequest,
    queue_training,
    retrain_request,
)
from propensity.web.context import AdminPage, CsrfForm, PageContext, PageError
from propensity.web.pages.data_common import redirect_with as _back
from propensity.web.pages.models import TRAIN_CHOICES, version_or_404

router = APIRouter(include_in_schema=False)
MAX_TEST_DAYS = 90


def _attempt(path: str, action: Callable[[], RedirectResponse]) -> RedirectResponse:
    """The action's own redirect, or back to `path` with the core's reason when refused."""
    try:
        return action()
    except PageError:
        raise
    except PropensityError as exc:
        return _back(path, problem=exc.message)


def _queue(
    ctx: PageContext,
    request: TrainingRequest,
    *,
    description: str,
    notice: Callable[[QueuedTraining], str],
) -> RedirectResponse:
    """Queues the training and goes to the new version's page, where it shows its progress
    under the notice."""
    queued = queue_training(
        ctx.session,
        request=request,
        name=None,
        description=description,
        user_id=ctx.principal.user_id,
    )
    return _back(f"/models/{queued.version.id}", notice=notice(queued))


def _deploy(
    ctx: PageContext,
    version: ModelVersion,
    *,
    traffic_split: float | None = None,
    duration: timedelta | None = None,
) -> None:
    """Deploys `version`: as a challenger on `traffic_split` for `duration`, or, without
    them, as the active model at once."""
    start_deployment(
        ctx.session,
        challenger=version,
        traffic_split=traffic_split,
        duration=duration,
        monitoring=None,
        previous_model_id=None,
        validation_results={},
        user_id=ctx.principal.user_id,
    )


def _number(form: CsrfForm, name: str, *, low: int, high: int, label: str) -> int:
    raw = form.get(name)
    text = raw.strip() if isinstance(raw, str) else ""
    if not (text.isascii() and text.isdigit()) or not low <= int(text) <= high:
        raise InvalidInput(f"{label} must be a whole number from {low} to {high}.")
    return int(text)


@router.post("/models/train")
def train(ctx: AdminPage, form: CsrfForm) -> RedirectResponse:
    target = form.get("target")
    if target not in {value for value, _ in TRAIN_CHOICES}:
        return _back("/models", problem="Choose what to train.")
    prediction_type, kind = str(target).split(":")

    def run() -> RedirectResponse:
        return _queue(
            ctx,
            TrainingRequest(prediction_type=prediction_type, kind=kind or None),
            description="Trained from the dashboard",
            notice=lambda queued: (
                f"Training of {queued.version.version} is queued (job {queued.job.id})."
            ),
        )

    return _attempt("/models", run)


def _on_version(
    ctx: PageContext, model_id: str, action: Callable[[ModelVersion, str], RedirectResponse]
) -> RedirectResponse:
    """`action(version, its page)` on the version (a 404 page when there is none): its own
    redirect, or back to the version's page with the core's reason when refused."""
    version = version_or_404(ctx.session, model_id)
    path = f"/models/{version.id}"
    return _attempt(path, lambda: action(version, path))


@router.post("/models/{model_id}/retrain")
def retrain(model_id: str, ctx: AdminPage, form: CsrfForm) -> RedirectResponse:
    del form

    def run(version: ModelVersion, _path: str) -> RedirectResponse:
        return _queue(
            ctx,
            retrain_request(version, changes={}),
            description=f"Retrain of {version.version} (model {version.id}) from the dashboard",
            notice=lambda queued: (
                f"Retraining {version.version} as {queued.version.version} (job "
                f"{queued.job.id}). It ends inactive: deploy or promote it when it is done."
            ),
        )

    return _on_version(ctx, model_id, run)


@router.post("/models/{model_id}/deploy")
def deploy(model_id: str, ctx: AdminPage, form: CsrfForm) -> RedirectResponse:
    def run(version: ModelVersion, path: str) -> RedirectResponse:
        split = _number(form, "split", low=1, high=99, label="The challenger's share (%)")
        days = _number(form, "days", low=1, high=MAX_TEST_DAYS, label="The test's length (days)")
        _deploy(ctx, version, traffic_split=split / 100, duration=timedelta(days=days))
        return _back(
            path,
            notice=f"{version.version} now challenges the active model on {split}% of "
            f"entities for {days} days.",
        )

    return _on_version(ctx, model_id, run)


@router.post("/models/{model_id}/promote")
def promote(model_id: str, ctx: AdminPage, form: CsrfForm) -> RedirectResponse:
    del form

    def run(version: ModelVersion, path: str) -> RedirectResponse:
        _deploy(ctx, version)
        return _back(path, notice=f"{version.version} is now the active model.")

    return _on_version(ctx, model_id, run)


@router.post("/models/{model_id}/decide")
def decide(model_id: str, ctx: AdminPage, form: CsrfForm) -> RedirectResponse:
    del form

    def run(version: ModelVersion, path: str) -> RedirectResponse:
        deployment = deployment_of(ctx.session, version=version)
        if deployment is None or deployment.status != DeploymentStatus.RUNNING.value:
            raise InvalidInput(f"{version.version} is not the challenger of a running test.")
        decided = evaluate(ctx.session, deployment=deployment, force=True)
        reason = (decided.decision or {}).get("reason") or ""
        return _back(path, notice=f"The test is {decided.status.replace('_', ' ')}: {reason}.")

    return _on_version(ctx, model_id, run)


@router.post("/models/{model_id}/rollback")
def rollback(model_id: str, ctx: AdminPage, form: CsrfForm) -> RedirectResponse:
    raw = form.get("reason")
    reason = (raw.strip() if isinstance(raw, str) else "") or "rolled back from the dashboard"

    def run(version: ModelVersion, path: str) -> RedirectResponse:
        deployment = deployment_of(ctx.session, version=version)
        if deployment is not None and deployment.status == DeploymentStatus.RUNNING.value:
            roll_back(ctx.session, deployment=deployment, reason=reason)
            return _back(path, notice="The test is rolled back; the champion keeps serving.")
        target = form.get("previous")
        previous = version_or_404(ctx.session, str(target or ""))
        if (
            deployment is None
            or deployment.status != DeploymentStatus.PROMOTED.value
            or deployment.champion_version_id != previous.id
        ):
            raise InvalidInput(f"{version.version} did not replace {previous.version}.")
        set_status(
            ctx.session,
            version=previous,
            status="active",
            reason=f"{reason} ({version.version} rolled back)",
            user_id=ctx.principal.user_id,
        )
        return _back(
            f"/models/{previous.id}", notice=f"{previous.version} is the active model again."
        )

    return _on_version(ctx, model_id, run)
