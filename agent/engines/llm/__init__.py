"""The LLM engine: an OpenAI-compatible model that calls Santun's tools."""
