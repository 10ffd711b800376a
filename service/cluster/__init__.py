"""Several nodes as one service, on PostgreSQL alone: the durable job queue, node heartbeats, the fan-out
of progress, job ends and settings changes, and batch coordinators that outlive their node. Used only when
`Config.clustered` (DATABASE_URL is PostgreSQL); a single SQLite box never loads it.

- queue: the job queue's SQL (claimed with FOR UPDATE SKIP LOCKED, leased, completed once).
- node: ClusterNode, one per process: claims and runs jobs, heartbeats, follows jobs other nodes run.
- coordinators: the durable ledger of batches and pipelines, leased like jobs and resumed elsewhere.
"""

from service.cluster.node import ClusterNode, node_name

__all__ = ["ClusterNode", "node_name"]
