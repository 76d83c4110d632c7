"""CTA generation (dedupe, cooldown), manual creation, lifecycle, listing and statistics."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from propensity.ctas.service import (
    CtaOutcome,
    create_manual_cta,
    cta_json,
    cta_stats,
    generate_cta,
    get_cta,
    list_ctas,
    update_cta,
)
from propensity.db import Database
from propensity.errors import Conflict, InvalidInput, NotFound
from propensity.models import Cta, Customer, Prediction
from propensity.settings import Settings
from tests.ctas.factories import NOW, make_account, make_prediction
from tests.factories import TenantUser, make_tenant_user


@pytest.fixture
def user(database: Database, settings: Settings) -> TenantUser:
    return make_tenant_user(database, settings)


@pytest.fixture
def session(database: Database, user: TenantUser) -> Iterator[Session]:
    with database.tenant_session(user.tenant_id) as s:
        yield s


def generate(
    session: Session,
    user: TenantUser,
    *,
    customer: Customer | None = None,
    prediction: Prediction | None = None,
    now: datetime = NOW,
    cooldown_days: int = 7,
) -> CtaOutcome:
    account = customer or make_account(session)
    return generate_cta(
        session,
        customer=account,
        prediction=prediction or make_prediction(session, customer=account),
        threshold=0.45,
        user_id=user.user_id,
        now=now,
        cooldown_days=cooldown_days,
    )


def test_generate_creates_an_open_ml_cta_linked_to_its_prediction(
    session: Session, user: TenantUser
) -> None:
    outcome = generate(session, user)
    assert outcome.was_created and outcome.skipped_reason is None
    assert outcome.generation_reason == "High churn risk detected"
    cta = outcome.cta
    assert cta is not None and cta.id is not None
    assert (cta.prediction_id, cta.source, cta.status) == (outcome.prediction_id, "ml", "OPEN")
    assert cta.created_by_user_id == user.user_id
    body = cta_json(cta)
    assert body == {
        "id": cta.id,
        "type": "RISK",
        "priority": "HIGH",
        "title": "Address churn risk - 72% probability",
        "description": cta.description,
        "dueDate": "2026-06-06T00:00:00Z",
        "status": "OPEN",
        "accountId": cta.customer_id,
        "reason": "High churn risk detected",
        "createdAt": "2026-06-01T09:30:00Z",
        "completedAt": None,
    }
    assert body["description"].startswith("**ML Analysis**: Account shows significant")


def test_no_applicable_rule_is_skipped_with_the_rules_reason(
    session: Session, user: TenantUser
) -> None:
    account = make_account(session)
    low = make_prediction(session, customer=account, probability=0.05, outputs={"level": "low"})
    outcome = generate(session, user, customer=account, prediction=low)
    assert (outcome.cta, outcome.was_created) == (None, False)
    assert outcome.skipped_reason == "Churn risk below the action threshold"
    assert outcome.generation_reason == "Churn risk below the action threshold"
    assert outcome.prediction_id == low.id


def test_an_open_similar_cta_is_reported_before_the_cooldown(
    session: Session, user: TenantUser
) -> None:
    account = make_account(session)
    assert generate(session, user, customer=account).was_created
    again = generate(session, user, customer=account, now=NOW + timedelta(days=1))
    assert (again.cta, again.was_created) == (None, False)
    assert again.skipped_reason == "Similar CTA already exists"
    assert again.generation_reason == "High churn risk detected"


def test_cooldown_blocks_any_new_ml_cta_for_the_account(session: Session, user: TenantUser) -> None:
    account = make_account(session)
    first = generate(session, user, customer=account).cta
    assert first is not None
    update_cta(session, cta_id=first.id, status="COMPLETED", now=NOW + timedelta(hours=1))
    blocked = generate(session, user, customer=account, now=NOW + timedelta(days=6))
    assert blocked.skipped_reason == "CTA cooldown active (7 days)"
    custom = generate(
        session, user, customer=account, now=NOW + timedelta(days=6), cooldown_days=10
    )
    assert custom.skipped_reason == "CTA cooldown active (10 days)"
    after = generate(session, user, customer=account, now=NOW + timedelta(days=7, minutes=1))
    assert after.was_created


def test_manual_ctas_do_not_start_a_cooldown(session: Session, user: TenantUser) -> None:
    account = make_account(session)
    create_manual_cta(
        session,
        account_id=account.id,
        type="RISK",
        priority="LOW",
        title="Call them",
        user_id=user.user_id,
        now=NOW,
    )
    assert generate(session, user, customer=account).was_created


def test_a_closed_similar_cta_is_no_duplicate(session: Session, user: TenantUser) -> None:
    account = make_account(session)
    first = generate(session, user, customer=account).cta
    assert first is not None
    update_cta(session, cta_id=first.id, status="CANCELLED", now=NOW)
    later = generate(session, user, customer=account, now=NOW + timedelta(days=8))
    assert later.was_created


def test_generation_refuses_subscribers_and_foreign_predictions(
    session: Session, user: TenantUser
) -> None:
    subscriber = make_account(session, external_id="s-1", kind="subscriber")
    with pytest.raises(InvalidInput, match="accounts"):
        generate(session, user, customer=subscriber)
    a, b = make_account(session, external_id="a"), make_account(session, external_id="b")
    with pytest.raises(InvalidInput, match="not about account"):
        generate(session, user, customer=a, prediction=make_prediction(session, customer=b))


def test_renewal_and_onboarding_come_from_the_account(session: Session, user: TenantUser) -> None:
    renewing = make_account(session, external_id="r", renewal_date=NOW.date() + timedelta(23))
    outcome = generate(session, user, customer=renewing)
    assert outcome.cta is not None and outcome.cta.type == "RENEWAL"
    assert outcome.cta.title == "Renewal at risk - renews in 23 days (72% churn probability)"
    young = make_account(session, external_id="y", created_at=NOW - timedelta(days=40))
    medium = make_prediction(
        session,
        customer=young,
        probability=0.3,
        outputs={"level": "medium", "interventionUrgency": "this_month"},
    )
    onboarding = generate(session, user, customer=young, prediction=medium)
    assert onboarding.cta is not None and onboarding.cta.type == "ONBOARDING"
    assert onboarding.cta.priority == "MEDIUM"


def test_lifecycle_stamps_and_refuses_moves_out_of_final_states(
    session: Session, user: TenantUser
) -> None:
    cta = generate(session, user).cta
    assert cta is not None
    later = NOW + timedelta(days=3)
    update_cta(session, cta_id=cta.id, status="in_progress", priority="LOW", now=NOW)
    assert (cta.status, cta.priority) == ("IN_PROGRESS", "LOW")
    with pytest.raises(Conflict) as back:
        update_cta(session, cta_id=cta.id, status="OPEN", now=NOW)
    assert back.value.message == (
        f"CTA {cta.id} is IN_PROGRESS; it can move to COMPLETED, CANCELLED, not OPEN"
    )
    update_cta(session, cta_id=cta.id, status="COMPLETED", now=later)
    assert (cta.status, cta.completed_at, cta.updated_at) == ("COMPLETED", later, later)
    for change in ({"status": "CANCELLED"}, {"priority": "HIGH"}):
        with pytest.raises(Conflict, match="COMPLETED, which is final"):
            update_cta(session, cta_id=cta.id, now=later, **change)  # type: ignore[arg-type]


def test_cancel_from_open_and_complete_from_open(session: Session, user: TenantUser) -> None:
    a, b = make_account(session, external_id="a"), make_account(session, external_id="b")
    one, two = generate(session, user, customer=a).cta, generate(session, user, customer=b).cta
    assert one is not None and two is not None
    update_cta(session, cta_id=one.id, status="CANCELLED", now=NOW)
    assert (one.status, one.cancelled_at, one.completed_at) == ("CANCELLED", NOW, None)
    update_cta(session, cta_id=two.id, status="COMPLETED", now=NOW)
    assert two.status == "COMPLETED"


def test_update_validates_values_and_ids(session: Session, user: TenantUser) -> None:
    cta = generate(session, user).cta
    assert cta is not None
    with pytest.raises(InvalidInput, match="status must be one of OPEN, IN_PROGRESS"):
        update_cta(session, cta_id=cta.id, status="DONE", now=NOW)
    with pytest.raises(InvalidInput, match="priority must be one of HIGH, MEDIUM, LOW"):
        update_cta(session, cta_id=cta.id, priority="urgent", now=NOW)
    with pytest.raises(NotFound, match="CTA 999999 not found"):
        update_cta(session, cta_id=999999, status="COMPLETED", now=NOW)
    due = NOW + timedelta(days=1)
    assert update_cta(session, cta_id=cta.id, due_date=due, now=NOW).due_date == due


def test_manual_cta_defaults_and_checks(session: Session, user: TenantUser) -> None:
    account = make_account(session)
    cta = create_manual_cta(
        session,
        account_id=account.id,
        type="renewal",
        priority="HIGH",
        title="  Prepare the renewal deck ",
        user_id=user.user_id,
        now=NOW,
    )
    assert (cta.type, cta.source, cta.reason, cta.title) == (
        "RENEWAL",
        "manual",
        "Created manually",
        "Prepare the renewal deck",
    )
    assert cta.due_date == NOW.replace(hour=0, minute=0) + timedelta(days=5)
    with pytest.raises(NotFound, match="Account 424242 not found"):
        create_manual_cta(
            session,
            account_id=424242,
            type="RISK",
            priority="LOW",
            title="x",
            user_id=None,
            now=NOW,
        )
    subscriber = make_account(session, external_id="s", kind="subscriber")
    with pytest.raises(NotFound):
        create_manual_cta(
            session,
            account_id=subscriber.id,
            type="RISK",
            priority="LOW",
            title="x",
            user_id=None,
            now=NOW,
        )
    with pytest.raises(InvalidInput, match="type must be one of RISK, RENEWAL, ONBOARDING"):
        create_manual_cta(
            session,
            account_id=account.id,
            type="CALL",
            priority="LOW",
            title="x",
            user_id=None,
            now=NOW,
        )
    with pytest.raises(InvalidInput, match="title"):
        create_manual_cta(
            session,
            account_id=account.id,
            type="RISK",
            priority="LOW",
            title=" ",
            user_id=None,
            now=NOW,
        )


def test_list_filters_and_pages_newest_first(session: Session, user: TenantUser) -> None:
    a, b = make_account(session, external_id="a"), make_account(session, external_id="b")
    first = generate(session, user, customer=a).cta
    second = generate(session, user, customer=b, now=NOW + timedelta(hours=1)).cta
    assert first is not None and second is not None
    update_cta(session, cta_id=first.id, status="IN_PROGRESS", now=NOW)
    assert [c.id for c in list_ctas(session)] == [second.id, first.id]
    assert [c.id for c in list_ctas(session, customer_id=a.id)] == [first.id]
    assert [c.id for c in list_ctas(session, status="in_progress")] == [first.id]
    assert list_ctas(session, type="RENEWAL") == []
    assert [c.id for c in list_ctas(session, limit=1, offset=1)] == [first.id]
    with pytest.raises(InvalidInput, match="limit"):
        list_ctas(session, limit=0)
    with pytest.raises(InvalidInput, match="type must be one of"):
        list_ctas(session, type="nope")


def test_stats_count_ml_ctas_only(session: Session, user: TenantUser) -> None:
    empty = cta_stats(session)
    assert empty == {
        "totalGenerated": 0,
        "openCount": 0,
        "completedCount": 0,
        "completionRate": 0.0,
        "byType": {"RISK": 0, "RENEWAL": 0, "ONBOARDING": 0},
        "averageResolutionDays": None,
    }
    accounts = [make_account(session, external_id=f"a{i}") for i in range(4)]
    ctas: list[Cta] = []
    for account in accounts:
        outcome = generate(session, user, customer=account)
        assert outcome.cta is not None
        ctas.append(outcome.cta)
    update_cta(session, cta_id=ctas[0].id, status="COMPLETED", now=NOW + timedelta(days=3))
    update_cta(session, cta_id=ctas[1].id, status="IN_PROGRESS", now=NOW)
    update_cta(session, cta_id=ctas[1].id, status="COMPLETED", now=NOW + timedelta(days=10))
    update_cta(session, cta_id=ctas[2].id, status="CANCELLED", now=NOW)
    create_manual_cta(
        session,
        account_id=accounts[3].id,
        type="ONBOARDING",
        priority="LOW",
        title="Hi",
        user_id=None,
        now=NOW,
    )
    assert cta_stats(session) == {
        "totalGenerated": 4,
        "openCount": 1,
        "completedCount": 2,
        "completionRate": 0.5,
        "byType": {"RISK": 4, "RENEWAL": 0, "ONBOARDING": 0},
        "averageResolutionDays": 6.5,
    }
    manual = cta_stats(session, source="manual")
    assert (manual["totalGenerated"], manual["byType"]["ONBOARDING"]) == (1, 1)


def test_a_tenant_cannot_see_or_change_another_tenants_cta(
    database: Database, settings: Settings, user: TenantUser
) -> None:
    other = make_tenant_user(database, settings, slug="other")
    with database.tenant_session(other.tenant_id) as theirs:
        outcome = generate(theirs, other)
        assert outcome.cta is not None
        cta_id, account_id = outcome.cta.id, outcome.cta.customer_id
    with database.tenant_session(user.tenant_id) as mine:
        assert list_ctas(mine) == []
        assert cta_stats(mine)["totalGenerated"] == 0
        with pytest.raises(NotFound):
            get_cta(mine, cta_id=cta_id)
        with pytest.raises(NotFound):
            update_cta(mine, cta_id=cta_id, status="CANCELLED", now=NOW)
        with pytest.raises(NotFound):
            create_manual_cta(
                mine,
                account_id=account_id,
                type="RISK",
                priority="LOW",
                title="x",
                user_id=None,
                now=NOW,
            )
    with database.tenant_session(other.tenant_id) as theirs:
        assert get_cta(theirs, cta_id=cta_id).status == "OPEN"
