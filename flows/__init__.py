"""Prefect flows: one thin @task per stage, calling vocmine.pipelines; no logic lives here."""
