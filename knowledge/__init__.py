"""Knowledge base: regulation and policy passages and their retrieval."""

__all__: list[str] = []
