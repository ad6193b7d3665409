"""POST /api/v1/auth/login/, POST /api/v1/auth/logout/, GET /api/v1/auth/me/."""

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import APIException
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.login_limits import check_login_allowed, clear_login_failures, record_login_failure
from accounts.models import Tenant, User
from accounts.services import auth_login, auth_logout


class InvalidCredentials(APIException):
    status_code = status.HTTP_401_UNAUTHORIZED
    default_code = "invalid_credentials"


class TenantSummarySerializer(serializers.ModelSerializer):
    class Meta:
        model = Tenant
        fields = ["id", "name", "slug"]


class UserSerializer(serializers.ModelSerializer):
    tenant = TenantSummarySerializer(read_only=True, allow_null=True)
    name = serializers.SerializerMethodField()

    class Meta:
        model = User
        fields = ["id", "username", "email", "name", "role", "tenant", "is_superuser"]

    def get_name(self, user: User) -> str:
        return user.get_full_name() or user.username


class LoginSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=256, trim_whitespace=False, write_only=True)


class LoginResultSerializer(serializers.Serializer):
    token = serializers.CharField()
    user = UserSerializer()


class LoginView(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes: list = []

    @extend_schema(request=LoginSerializer, responses=LoginResultSerializer, summary="Log in")
    def post(self, request):
        serializer = LoginSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        username = serializer.validated_data["username"]
        check_login_allowed(request, username)
        result = auth_login(
            request=request._request,
            username=username,
            password=serializer.validated_data["password"],
        )
        if result is None:
            record_login_failure(request, username)
            raise InvalidCredentials(_("Invalid username or password."))
        clear_login_failures(request, username)
        user, key = result
        return Response({"token": key, "user": UserSerializer(user).data})


class LogoutView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(request=None, responses={204: None}, summary="Log out")
    def post(self, request):
        auth_logout(token=request.auth)
        if request._request.session.session_key:
            request._request.session.flush()
        return Response(status=204)


class MeView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses=UserSerializer, summary="The current user")
    def get(self, request):
        return Response(UserSerializer(request.user).data)
