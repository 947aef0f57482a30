"""One module per ``imu-knee`` sub-command: ``add_arguments(parser)`` and ``run(args)``."""
