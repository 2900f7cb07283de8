"""The chunk stage: the diff cut into bounded chunks with line numbers, their rendering for the
model, the prompt and the answer schema."""
