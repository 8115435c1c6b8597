-- Deployments: which releases a runner keeps becomes the database's rule alone (how many per branch included), so a
-- rollback asks the same question the runner's sync answers.
drop function if exists ops.runner_kept_releases(uuid, int);

-- A deployment follows its instance (it goes live when the instance becomes current, ends when it retires).
create index deployments_instance_idx on ops.deployments (instance_id) where instance_id is not null;
