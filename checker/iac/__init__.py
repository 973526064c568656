"""Infrastructure as code: CloudFormation templates and Terraform plans as inputs.

Each reader turns its file into ``IacResource`` records (``model.py``) with resolved property
values, where a value that is only known at deploy time is a *symbol*: the string
``${<reference>}`` (``symbols.py``). ``to_snapshot.py`` maps the records of both readers to one
snapshot document, so that every rule runs on templates and plans as on live accounts.
"""
