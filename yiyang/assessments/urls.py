from yiyang.assessments.pages import schedule
from yiyang.assessments.pages.sessions import answering, finishing, result, start

app_name = "assessments"
urlpatterns = [
    *start.urlpatterns,
    *result.urlpatterns,
    *answering.urlpatterns,
    *finishing.urlpatterns,
    *schedule.urlpatterns,
]
