"""Maven artifacts: SNAPSHOTs, ranges, LATEST/RELEASE and their transitive graph, pinned as Maven resolves it."""
