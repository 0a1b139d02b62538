"""Children's features: resume points, sleep timer, readers, bedtime, daily limit, lock."""
