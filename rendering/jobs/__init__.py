"""The job platform: where jobs come from (enqueue), their states (claim, lease, fence),
running one (run, output; compose_run on the cpu; background_run and scene_jobs for painted
backgrounds; edit_layers for editing a composed ad's background), the reconciler, and the GPU
worker's lifecycle (worker)."""
