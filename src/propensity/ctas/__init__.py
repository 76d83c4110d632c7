"""Calls to action: tasks for customer-success managers about one account.

rules.choose_cta(...) -> CtaDecision       pure: which CTA a prediction calls for, if any
service.generate_cta / update_cta / create_manual_cta / list_ctas / get_cta / cta_stats
service.cta_json(cta) -> dict              the customer-success document's shape
"""
