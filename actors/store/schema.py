"""Every table, as SQLAlchemy Core metadata. Migrations in migrations/ create and evolve them."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

metadata = MetaData()

# timestamps are epoch seconds (float): sortable, timezone-free, cheap

teams = Table(
    "teams",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("name", String(100), nullable=False, unique=True),
    Column("created_at", Float, nullable=False),
)

roles = Table(
    "roles",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("name", String(50), nullable=False, unique=True),
    Column("description", Text, nullable=False, default=""),
    Column("permissions", JSON, nullable=False),
    Column("builtin", Boolean, nullable=False, default=False),
    Column("created_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
)

users = Table(
    "users",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("username", String(100), nullable=False, unique=True),
    Column("password_hash", Text, nullable=False),
    Column("role", String(50), nullable=False),  # a roles.name
    Column("team_id", String(36), ForeignKey("teams.id"), nullable=True),
    Column("must_change_password", Boolean, nullable=False, default=False),
    Column("disabled", Boolean, nullable=False, default=False),
    Column("analytics", JSON, nullable=True),
    Column("created_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
)

sessions = Table(
    "sessions",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("token_hash", String(64), nullable=False, unique=True),  # sha256 hex of the bearer token
    Column("user_id", String(36), ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("created_at", Float, nullable=False),
    Column("expires_at", Float, nullable=False),
    Column("ip", String(64), nullable=True),
    Column("user_agent", Text, nullable=True),
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("user_id", String(36), ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("name", String(100), nullable=False),
    Column("prefix", String(16), nullable=False, index=True),  # short sha256 prefix to find the row
    Column("key_hash", Text, nullable=False),  # scrypt
    Column("permissions", JSON, nullable=True),  # None = the owner's permissions
    Column("created_at", Float, nullable=False),
    Column("expires_at", Float, nullable=True),
    Column("last_used_at", Float, nullable=True),
)

settings = Table(
    "settings",
    metadata,
    Column("key", String(100), primary_key=True),
    Column("value", JSON, nullable=True),
    Column("updated_at", Float, nullable=False),
    Column("updated_by", String(36), nullable=True),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", Float, nullable=False, index=True),
    Column("action", String(50), nullable=False, index=True),
    Column("actor_id", String(36), nullable=True),
    Column("actor_name", String(100), nullable=True),
    Column("target", Text, nullable=True),
    Column("ip", String(64), nullable=True),
    Column("details", JSON, nullable=True),
)

jobs = Table(
    "jobs",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("owner_id", String(36), nullable=True, index=True),
    Column("parent_id", String(36), nullable=True, index=True),
    Column("kind", String(20), nullable=False),  # tool | batch | pipeline | install
    Column("tool_id", String(100), nullable=True),
    Column("status", String(20), nullable=False),
    Column("progress", Float, nullable=False, default=0),
    Column("message", Text, nullable=True),
    Column("result", JSON, nullable=True),  # the 200 body of a finished job
    Column("error", Text, nullable=True),
    Column("code", String(40), nullable=True),
    Column("http_status", Integer, nullable=True),
    Column("created_at", Float, nullable=False, index=True),
    Column("updated_at", Float, nullable=False),
)

files = Table(
    "files",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("owner_id", String(36), nullable=True, index=True),
    Column("root_id", String(36), nullable=False, index=True),  # first version of the chain
    Column("parent_id", String(36), nullable=True),
    Column("version", Integer, nullable=False, default=1),
    Column("original_name", Text, nullable=False),
    Column("stored_name", Text, nullable=False),
    Column("mime_type", String(100), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("width", Integer, nullable=True),
    Column("height", Integer, nullable=True),
    Column("tool_chain", JSON, nullable=False),
    Column("created_at", Float, nullable=False),
)

pipelines = Table(
    "pipelines",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("owner_id", String(36), nullable=True, index=True),
    Column("name", String(100), nullable=False),
    Column("description", Text, nullable=False, default=""),
    Column("steps", JSON, nullable=False),
    Column("created_at", Float, nullable=False),
)

Index("ix_jobs_status", jobs.c.status)

# ---- several nodes on one PostgreSQL (service/cluster.py); empty on a single SQLite box ----

job_queue = Table(
    "job_queue",
    metadata,
    Column("id", String(80), primary_key=True),  # the job's id (a batch's item: <parent>.<index>)
    Column("family", String(20), nullable=False),
    Column("tool_id", String(100), nullable=False),
    Column("payload", JSON, nullable=False),  # how to run it: settings, inputs relative to STORAGE_ROOT, ...
    Column("state", String(12), nullable=False),  # queued | running | done
    Column("node_id", String(80), nullable=True),  # the node running it (running) or that ran it (done)
    Column("lease_until", Float, nullable=True),  # running: the node's claim lapses after this
    Column("attempts", Integer, nullable=False, default=0),
    Column("outcome", JSON, nullable=True),  # done: status, result or error, code, httpStatus
    Column("persist", Boolean, nullable=False, default=True),  # a row in jobs mirrors it
    Column("created_at", Float, nullable=False),
    Column("finished_at", Float, nullable=True),
)
Index("ix_job_queue_claim", job_queue.c.state, job_queue.c.family, job_queue.c.created_at)

nodes = Table(
    "nodes",
    metadata,
    Column("id", String(80), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("role", String(10), nullable=False),
    Column("capacities", JSON, nullable=False),  # family -> jobs at once
    Column("running", JSON, nullable=True),  # family -> jobs running now
    Column("started_at", Float, nullable=False),
    Column("heartbeat_at", Float, nullable=False),
)

# a batch's or pipeline's coordinator, leased like a job so that another node resumes it (service/cluster)
coordinators = Table(
    "coordinators",
    metadata,
    Column("id", String(36), primary_key=True),  # the parent job's id
    Column("kind", String(20), nullable=False),  # batch | pipeline-batch
    Column("plan", JSON, nullable=False),  # how to (re)start it: tool or steps, settings, items, paths
    Column("state", String(12), nullable=False),  # running | done
    Column("node_id", String(80), nullable=True),  # the node coordinating it
    Column("lease_until", Float, nullable=True),
    Column("attempts", Integer, nullable=False, default=1),
    Column("progress", JSON, nullable=True),  # the latest frame's batch fields, progress and message
    Column("created_at", Float, nullable=False),
    Column("finished_at", Float, nullable=True),
)
Index("ix_coordinators_state", coordinators.c.state, coordinators.c.lease_until)

coordinator_items = Table(
    "coordinator_items",
    metadata,
    Column("coordinator_id", String(36), primary_key=True),
    Column("idx", Integer, primary_key=True),
    Column("outcome", JSON, nullable=False),  # {"files": [[path in the job's folder, name]]} or {"error"}
    Column("finished_at", Float, nullable=False),
)

# request counts per caller and minute, shared by every node (service.ratelimit); old windows are pruned
rate_windows = Table(
    "rate_windows",
    metadata,
    Column("key", String(200), primary_key=True),  # u:<user id> or ip:<address>
    Column("window_start", Float, primary_key=True),  # epoch seconds, a multiple of 60 (the database's clock)
    Column("count", Integer, nullable=False),
)
Index("ix_rate_windows_start", rate_windows.c.window_start)
