"""The job platform: where jobs come from (enqueue), their states (claim, lease, fence),
running one (run, output), the reconciler, and the GPU worker's lifecycle (worker)."""
