"""rdsiam: a compliance checker for IAM database authentication on Amazon RDS and Aurora."""

__version__ = "0.1.0"
