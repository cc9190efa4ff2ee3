"""The end-to-end test library: every check that talks to a deployed registry.

Tokens, pushes, pulls, blob reads, loops under load and timing probes live
here, and nowhere else in the tests; the Molecule scenarios, the benchmark
and the integration tests call it. It is built on the collection's own
registry client (``plugins/module_utils/_registry/client``) where that fits,
and needs nothing but the Python standard library beside it, so that it runs
unchanged on the controller and on a plain Debian test host:
``molecule/resources/tasks/e2e_library.yml`` puts both on a test host, and
``python3 -m e2e COMMAND ...`` runs a check there (``e2e/__main__.py`` lists
the commands). Every command prints one JSON document; the scenario asserts
on it.
"""
