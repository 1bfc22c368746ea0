"""Offline evaluation harnesses for the Santun agent."""
