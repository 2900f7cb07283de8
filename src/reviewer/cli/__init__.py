"""The command line: the typer app, the one error boundary and one module per command. No
logic: each command builds settings and calls a stage."""
