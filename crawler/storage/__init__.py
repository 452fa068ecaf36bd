"""Every read and write of SQL: engine, models, one query module per aggregate, migrations."""
