from django.urls import path

from . import pages, public, workbench

urlpatterns = [
    path("submit/", pages.SubmitPage.as_view(), name="submit"),
    path("grid/", pages.GridReportPage.as_view(), name="grid-report"),
    path("submit/done/", pages.SubmitDonePage.as_view(), name="submit-done"),
    path("track/", pages.TrackPage.as_view(), name="track-page"),
    path("accounts/register/", pages.RegisterPage.as_view(), name="register"),
    path("my/", pages.MyCasesPage.as_view(), name="my-cases"),
    path("public/", public.PublicPage.as_view(), name="public"),
    path("knowledge/", pages.KnowledgePage.as_view(), name="knowledge"),
    path("public/feed.atom", public.PublicFeed(), name="public-feed"),
    path("workbench/", workbench.WorkbenchPage.as_view(), name="workbench"),
    path("workbench/cases/<int:pk>/", workbench.CasePage.as_view(), name="workbench-case"),
    path("workbench/quick/", workbench.QuickEntryPage.as_view(), name="quick-entry"),
    path("workbench/inbox/", workbench.InboxPage.as_view(), name="inbox"),
    path("workbench/knowledge/", workbench.KnowledgeKeepPage.as_view(), name="knowledge-keep"),
]
