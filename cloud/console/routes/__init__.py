"""Thin console routes: read the form, call the domain function, render or redirect."""
