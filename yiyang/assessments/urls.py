from yiyang.assessments.pages import schedule, sessions

app_name = "assessments"
urlpatterns = [
    *sessions.urlpatterns,
    *schedule.urlpatterns,
]
