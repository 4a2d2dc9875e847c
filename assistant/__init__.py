"""Assistant: the dialogue agent (intents, tools, LLM backends). Imports retrieval and recsys."""
