from django.urls import path

from submissions import views

app_name = "submissions"

urlpatterns = [
    path("contribute/", views.ContributeView.as_view(), name="contribute"),
    path("contribute/received/<str:reference>/", views.receipt, name="receipt"),
    path("contribute/what-we-accept/", views.what_we_accept, name="what_we_accept"),
    path("contribute/card-template/", views.download_card_template, name="card_template"),
    path("status/<str:token>/", views.status, name="status"),
    path("status/<str:token>/confirm/", views.confirm_address, name="confirm"),
    path("status/<str:token>/reply/", views.reply, name="reply"),
    path("status/<str:token>/revise/", views.revise, name="revise"),
    path("status/<str:token>/location/", views.revise_location, name="revise_location"),
    path("status/<str:token>/withdraw/", views.withdraw, name="withdraw"),
    path("status/<str:token>/reopen/", views.reopen, name="reopen"),
    path("status/<str:token>/correction/", views.request_correction, name="request_correction"),
    path("status/<str:token>/card-version/", views.send_card_version, name="card_version"),
    path("status/<str:token>/progress.json", views.progress, name="progress"),
    path("status/<str:token>/draft-card.md", views.draft_card, name="draft_card"),
    path("my-submissions/", views.my_submissions, name="my_submissions_form"),
    path("my-submissions/<str:token>/", views.my_submissions_list, name="my_submissions"),
]
