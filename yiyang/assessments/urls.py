from yiyang.assessments.pages.schedule import dues, policies, resident
from yiyang.assessments.pages.sessions import answering, finishing, result, start

app_name = "assessments"
urlpatterns = [
    *start.urlpatterns,
    *result.urlpatterns,
    *answering.urlpatterns,
    *finishing.urlpatterns,
    *dues.urlpatterns,
    *resident.urlpatterns,
    *policies.urlpatterns,
]
