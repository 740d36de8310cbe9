import factory

from migrations_app.models import TargetDatabase


class TargetDatabaseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TargetDatabase
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"target-{n}")
    host = "127.0.0.1"
    port = 5432
    dbname = "postgres"
    user = "postgres"
    environment = TargetDatabase.Environment.DEVELOPMENT

    @factory.post_generation
    def password(obj, create, extracted, **kwargs):
        if extracted:
            obj.password = extracted
            if create:
                obj.save(update_fields=["password_encrypted"])
