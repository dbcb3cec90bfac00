-- The per-task model paths (`task_models`) became a tier per task, kept with the tiers
-- (`tiers.tasks`); the old setting was never read by anything, so it goes.
DELETE FROM settings WHERE key = 'task_models';
