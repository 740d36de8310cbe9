"""The DataFlow CI client (standard library only): send a branch's migration files to the review,
wait for the analysis, write Markdown, SARIF 2.1.0, JUnit XML, GitHub annotations and JSON.

    python -m dataflow_client submit --target shop --wait --fail-on HIGH --sarif out.sarif db/migration
"""
