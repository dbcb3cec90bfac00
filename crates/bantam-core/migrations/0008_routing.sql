-- The router: which tier each conversation asks for (auto, small, workhorse, remote) and,
-- for each answer, the tier that made it and the decision (JSON: by, reason, score,
-- decision_ms, a fallback's note).
ALTER TABLE conversations ADD COLUMN tier_choice TEXT NOT NULL DEFAULT 'auto';
ALTER TABLE messages ADD COLUMN tier TEXT;
ALTER TABLE messages ADD COLUMN route TEXT;
