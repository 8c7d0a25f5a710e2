from releaser.entry import main

main()
