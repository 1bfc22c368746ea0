"""Prompt files of the LLM engine: system parts, few-shot dialogues and named variants."""

from agent.prompts.book import PromptBook, PromptError, RenderedPrompt, load_prompts

__all__ = ["PromptBook", "PromptError", "RenderedPrompt", "load_prompts"]
