"""Excel exports of the statistics tables."""

urlpatterns: list = []
