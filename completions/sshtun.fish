complete --keep-order --exclusive --command sshtun --arguments "(COMPLETE=fish sshtun -- (commandline --current-process --tokenize --cut-at-cursor) (commandline --current-token))"
