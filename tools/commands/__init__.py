# The commands of `python -m tools`: one module each, with NAME, HELP, add_arguments(parser), run(args).
