"""Representative data: a few orders, loaded into the rehearsal's database (DATABASE_URL)."""
import os

import sqlalchemy as sa

with sa.create_engine(os.environ["DATABASE_URL"]).begin() as db:
    for customer in ("ada", "grace", "edsger"):
        db.execute(sa.text("INSERT INTO orders (customer) VALUES (:c)"), {"c": customer})
