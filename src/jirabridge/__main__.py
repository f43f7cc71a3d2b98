from jirabridge.cli import main

main()
