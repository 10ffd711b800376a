"""What the service may ask of the database: one module per area, each function named for what it does.

Every function takes the connection the store hands it (`await store.call(users.by_id, user_id)`), so a
route can compose several in one transaction, and returns rows (attribute access by column name), plain
values or small records. Only this package and the migrations know the tables; the service never imports
them or SQLAlchemy."""
