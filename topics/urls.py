"""Page routes of the 每月一题 half: the committee's dashboards."""

urlpatterns: list = []
