"""Initial schema: identity, jobs, files, pipelines, settings and audit.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'audit_log',
        sa.Column('id', sa.Integer(), primary_key=True, autoincrement=True, nullable=False),
        sa.Column('at', sa.Float(), nullable=False),
        sa.Column('action', sa.String(50), nullable=False),
        sa.Column('actor_id', sa.String(36), nullable=True),
        sa.Column('actor_name', sa.String(100), nullable=True),
        sa.Column('target', sa.Text(), nullable=True),
        sa.Column('ip', sa.String(64), nullable=True),
        sa.Column('details', sa.JSON(), nullable=True),
    )
    op.create_index('ix_audit_log_action', 'audit_log', ['action'])
    op.create_index('ix_audit_log_at', 'audit_log', ['at'])
    op.create_table(
        'files',
        sa.Column('id', sa.String(36), primary_key=True, nullable=False),
        sa.Column('owner_id', sa.String(36), nullable=True),
        sa.Column('root_id', sa.String(36), nullable=False),
        sa.Column('parent_id', sa.String(36), nullable=True),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('original_name', sa.Text(), nullable=False),
        sa.Column('stored_name', sa.Text(), nullable=False),
        sa.Column('mime_type', sa.String(100), nullable=False),
        sa.Column('size', sa.Integer(), nullable=False),
        sa.Column('width', sa.Integer(), nullable=True),
        sa.Column('height', sa.Integer(), nullable=True),
        sa.Column('tool_chain', sa.JSON(), nullable=False),
        sa.Column('created_at', sa.Float(), nullable=False),
    )
    op.create_index('ix_files_owner_id', 'files', ['owner_id'])
    op.create_index('ix_files_root_id', 'files', ['root_id'])
    op.create_table(
        'jobs',
        sa.Column('id', sa.String(36), primary_key=True, nullable=False),
        sa.Column('owner_id', sa.String(36), nullable=True),
        sa.Column('parent_id', sa.String(36), nullable=True),
        sa.Column('kind', sa.String(20), nullable=False),
        sa.Column('tool_id', sa.String(100), nullable=True),
        sa.Column('status', sa.String(20), nullable=False),
        sa.Column('progress', sa.Float(), nullable=False),
        sa.Column('message', sa.Text(), nullable=True),
        sa.Column('result', sa.JSON(), nullable=True),
        sa.Column('error', sa.Text(), nullable=True),
        sa.Column('code', sa.String(40), nullable=True),
        sa.Column('http_status', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.Float(), nullable=False),
        sa.Column('updated_at', sa.Float(), nullable=False),
    )
    op.create_index('ix_jobs_parent_id', 'jobs', ['parent_id'])
    op.create_index('ix_jobs_created_at', 'jobs', ['created_at'])
    op.create_index('ix_jobs_owner_id', 'jobs', ['owner_id'])
    op.create_index('ix_jobs_status', 'jobs', ['status'])
    op.create_table(
        'pipelines',
        sa.Column('id', sa.String(36), primary_key=True, nullable=False),
        sa.Column('owner_id', sa.String(36), nullable=True),
        sa.Column('name', sa.String(100), nullable=False),
        sa.Column('description', sa.Text(), nullable=False),
        sa.Column('steps', sa.JSON(), nullable=False),
        sa.Column('created_at', sa.Float(), nullable=False),
    )
    op.create_index('ix_pipelines_owner_id', 'pipelines', ['owner_id'])
    op.create_table(
        'roles',
        sa.Column('id', sa.String(36), primary_key=True, nullable=False),
        sa.Column('name', sa.String(50), nullable=False, unique=True),
        sa.Column('description', sa.Text(), nullable=False),
        sa.Column('permissions', sa.JSON(), nullable=False),
        sa.Column('builtin', sa.Boolean(), nullable=False),
        sa.Column('created_at', sa.Float(), nullable=False),
        sa.Column('updated_at', sa.Float(), nullable=False),
    )
    op.create_table(
        'settings',
        sa.Column('key', sa.String(100), primary_key=True, nullable=False),
        sa.Column('value', sa.JSON(), nullable=True),
        sa.Column('updated_at', sa.Float(), nullable=False),
        sa.Column('updated_by', sa.String(36), nullable=True),
    )
    op.create_table(
        'teams',
        sa.Column('id', sa.String(36), primary_key=True, nullable=False),
        sa.Column('name', sa.String(100), nullable=False, unique=True),
        sa.Column('created_at', sa.Float(), nullable=False),
    )
    op.create_table(
        'users',
        sa.Column('id', sa.String(36), primary_key=True, nullable=False),
        sa.Column('username', sa.String(100), nullable=False, unique=True),
        sa.Column('password_hash', sa.Text(), nullable=False),
        sa.Column('role', sa.String(50), nullable=False),
        sa.Column('team_id', sa.String(36), sa.ForeignKey('teams.id'), nullable=True),
        sa.Column('must_change_password', sa.Boolean(), nullable=False),
        sa.Column('disabled', sa.Boolean(), nullable=False),
        sa.Column('analytics', sa.JSON(), nullable=True),
        sa.Column('created_at', sa.Float(), nullable=False),
        sa.Column('updated_at', sa.Float(), nullable=False),
    )
    op.create_table(
        'api_keys',
        sa.Column('id', sa.String(36), primary_key=True, nullable=False),
        sa.Column('user_id', sa.String(36), sa.ForeignKey('users.id', ondelete='CASCADE'), nullable=False),
        sa.Column('name', sa.String(100), nullable=False),
        sa.Column('prefix', sa.String(16), nullable=False),
        sa.Column('key_hash', sa.Text(), nullable=False),
        sa.Column('permissions', sa.JSON(), nullable=True),
        sa.Column('created_at', sa.Float(), nullable=False),
        sa.Column('expires_at', sa.Float(), nullable=True),
        sa.Column('last_used_at', sa.Float(), nullable=True),
    )
    op.create_index('ix_api_keys_prefix', 'api_keys', ['prefix'])
    op.create_index('ix_api_keys_user_id', 'api_keys', ['user_id'])
    op.create_table(
        'sessions',
        sa.Column('id', sa.String(36), primary_key=True, nullable=False),
        sa.Column('token_hash', sa.String(64), nullable=False, unique=True),
        sa.Column('user_id', sa.String(36), sa.ForeignKey('users.id', ondelete='CASCADE'), nullable=False),
        sa.Column('created_at', sa.Float(), nullable=False),
        sa.Column('expires_at', sa.Float(), nullable=False),
        sa.Column('ip', sa.String(64), nullable=True),
        sa.Column('user_agent', sa.Text(), nullable=True),
    )
    op.create_index('ix_sessions_user_id', 'sessions', ['user_id'])


def downgrade() -> None:
    op.drop_table('sessions')
    op.drop_table('api_keys')
    op.drop_table('users')
    op.drop_table('teams')
    op.drop_table('settings')
    op.drop_table('roles')
    op.drop_table('pipelines')
    op.drop_table('jobs')
    op.drop_table('files')
    op.drop_table('audit_log')
