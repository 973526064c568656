"""IAM policy reading for ``rds-db:connect``: documents, statements, wildcard matching, ARNs.

The foundation of the 3xx rules and ``rdsiam access`` (issue 4): pure functions over the
snapshot's ``iam`` section (GetAccountAuthorizationDetails).
"""
