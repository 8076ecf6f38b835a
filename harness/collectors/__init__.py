"""Collectors: each ``run()`` spawns tools and leaves raw artifacts under ``reports/raw/<name>/``; each
``parse()`` is pure and turns those artifacts into typed stats per module (see ARCHITECTURE.md)."""
