"""The application layer: one module per use case, shared by every entry point.

A use case takes ports (``telewarden.core.ports``) and plain values and returns a report
dataclass; it never parses arguments, renders output or reads settings. The CLI, the REST API,
the live runner and the Spark job call these functions and only translate their inputs and
outputs. Import-linter forbids Typer, Rich, FastAPI, brokers and ``telewarden.settings`` here.

Modules
-------
The list with its layer diagram is in ``docs/architecture.md``; in short: ``context``
(``AppContext``), screening (``screening``, ``screen_file``, ``optins``, ``lists``, ``policy``,
``decisions``, ``statistics``, ``accounts``), SMS (``sms_classify``, ``sms_training``,
``evaluation_sms``), numbers (``number_inputs``, ``number_features``, ``number_scoring``,
``detection``, ``evaluation_numbers``, ``batch``), disposal (``disposal``, ``disposal_intake``,
``disposal_replay``, ``cascade``, ``credit``, ``police``, ``audit``), early warning
(``warning``), the live loop (``live_loop``, ``loop_disposal``, ``loop_warning``,
``loop_replay``, ``loop_demo``), the simulator's adversaries (``adaptive_replay``) and the demo.
"""
