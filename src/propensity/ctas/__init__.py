"""Calls to action: tasks for customer-success managers about one account.

rules.choose_cta(...) -> CtaDecision       pure: which CTA a prediction calls for, if any
service.generate_cta / update_cta / create_manual_cta / list_ctas / get_cta / cta_stats
service.cta_json(cta) -> dict              the customer-success document's shape
candidates.cta_source / generate_account_cta   one account's CTA from its current prediction
candidates.cta_candidates / generate_ctas      the portfolio's accounts most at risk, and theirs
"""
