"""View code more than one audience uses, each with one home: what a subscription command's caller may do and
how it runs (subscription_actions), response bodies (presenters), deliveries, escalations, sharing-policy notices
and the partner listing. The audience packages import from here, never from each other.
"""
