"""POST /api/v1/auth/login/, POST /api/v1/auth/logout/, GET /api/v1/auth/me/,
GET /api/v1/auth/tokens/, DELETE /api/v1/auth/tokens/{id}/."""

from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import APIException, Throttled
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.login_limits import LoginLocked, login_check
from accounts.models import ApiToken, Tenant, User
from accounts.selectors import tokens_visible_to
from accounts.services import api_tokens_revoke, auth_login, auth_logout
from helpdesk.client_address import client_address


class LoginThrottled(Throttled):
    default_code = "login_throttled"


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
        try:
            login_check(client_ip=client_address(request), username=username)
        except LoginLocked as exc:
            raise LoginThrottled(wait=exc.wait_seconds, detail=str(exc)) from exc
        result = auth_login(
            request=request._request,
            username=username,
            password=serializer.validated_data["password"],
        )
        if result is None:
            raise InvalidCredentials(_("Invalid username or password."))
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


class TokenOwnerSerializer(serializers.ModelSerializer):
    class Meta:
        model = User
        fields = ["id", "username"]


class ApiTokenSerializer(serializers.ModelSerializer):
    user = TokenOwnerSerializer(read_only=True)
    current = serializers.SerializerMethodField()

    class Meta:
        model = ApiToken
        fields = [
            "id",
            "prefix",
            "name",
            "user",
            "created_at",
            "expires_at",
            "last_used_at",
            "current",
        ]

    def get_current(self, token: ApiToken) -> bool:
        """Whether this request was authenticated with this token."""
        return token == self.context["request"].auth


class TokenListView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        responses=ApiTokenSerializer(many=True),
        summary="API tokens: your own, or every one in your tenant for a tenant admin",
    )
    def get(self, request):
        tokens = tokens_visible_to(request.user)
        return Response(ApiTokenSerializer(tokens, many=True, context={"request": request}).data)


class TokenDetailView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(request=None, responses={204: None}, summary="Revoke an API token")
    def delete(self, request, token_id: int):
        token = tokens_visible_to(request.user).filter(pk=token_id).first()
        if token is None:
            raise Http404
        api_tokens_revoke(user=token.user, token_ids=[token.pk])
        return Response(status=204)
