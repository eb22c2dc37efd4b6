"""The application layer: one module per use case, shared by every entry point.

A use case takes ports (``telewarden.core.ports``) and plain values and returns a report
dataclass; it never parses arguments, renders output or reads settings. The CLI, the REST API,
the live runner and the Spark job call these functions and only translate their inputs and
outputs. Import-linter forbids Typer, Rich, FastAPI, brokers and ``telewarden.settings`` here.

Modules
-------
context              ``AppContext``: the stores, clock and process-level gates an entry point hands over
screening            screen one event (store-backed), build screeners, the legal gate on content
screen_file          screen a file of events in chunks (from the store's state, logged)
optins, lists,       the subscriber opt-ins, the deny/allow lists (import, add, remove) and the
policy               versioned policy (validated change of one key, history)
sms_classify,        classify a file of SMS, explain one; train a model on labelled messages;
sms_training,        every figure of the SMS model card as one report
evaluation_sms
number_inputs,       read feature/label/edge/record files; the 55 features; train, score and
number_features,     explain numbers; detect fraud cards from records; the figures of the number
number_scoring,      model card
detection,
evaluation_numbers
live_loop            one micro-batch of the live loop: screen, detect, dispose, warn in event time
loop_replay          a simulated day through the loop, compared with screening alone
demo                 simulate a day, screen it, detect cards and measure against the truth
"""
