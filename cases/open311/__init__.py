"""Open311 GeoReport v2 (issue 13): the city's complaint intake and its public record, in the
open standard that third-party clients (mini-programs, other hotlines' software, civic-tech
apps) already speak, at ``/open311/v2/``.

``formats`` writes the spec's JSON and XML, ``keys`` issues and checks the clients' API keys,
``reading`` answers the public reads (masked as the public reads a case), ``intake`` turns a
posted request into a case through ``workflow.case_submit``, the same function as the web form.
"""
