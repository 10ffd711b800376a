"""The StoreActor: the one database connection, used from its own thread."""
