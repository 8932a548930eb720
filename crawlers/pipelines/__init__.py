"""Item pipelines, one per step: numbers → validation → catalogue → units → de-duplication → storage."""
