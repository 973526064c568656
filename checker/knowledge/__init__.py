"""Knowledge tables: what AWS documents about IAM DB auth support, parameter defaults and CAs.

Each module names its AWS source URL and the date it was last REVIEWED. Live answers in a
snapshot (OrderableDBInstanceOptions, Certificates, engine-default parameters) win over them.
"""
