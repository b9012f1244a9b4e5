"""API for brand kits, products (with feed import), prompt templates and formats."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import Http404
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import (
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response

from api.filters import choice_parameter, query_choice, query_text, text_parameter
from api.scoping import WorkspaceScoped
from api.serializers.catalog import (
    BrandFontSerializer,
    BrandKitSerializer,
    BrandLogoSerializer,
    ComposedPromptSerializer,
    FontUploadSerializer,
    FormatSerializer,
    LogoUploadSerializer,
    PhotoUploadSerializer,
    PreviewInputSerializer,
    ProductInputSerializer,
    ProductPhotoSerializer,
    ProductSerializer,
    PromptTemplateSerializer,
    UnsavedPreviewInputSerializer,
)
from api.serializers.feeds import FeedImportSerializer, FeedUploadSerializer
from brands import feed_sources
from brands import services as brand_services
from brands.models import BrandKit, BrandLogo, Product, ProductPhoto
from brands.product_fields import ProductFieldErrors, clean_product_data
from core.files import file_redirect
from rendering import templates as rendering_templates
from rendering.compose.prompts import compose_prompt, prompt_preview
from rendering.models import AssetKind, Background, Format, PromptTemplate

UPLOAD_PARSERS = [MultiPartParser]  # a file needs multipart/form-data; nothing else parses
FILE_REDIRECT = OpenApiResponse(
    description="A redirect (Location) to a signed link to the file that expires; the link "
                "itself needs no token.")


def _save_brand(**fields):
    try:
        return brand_services.brand_kit_save(**fields)
    except ValidationError as exc:
        if hasattr(exc, "error_dict"):  # a field's own error (the disclaimer, B14)
            raise
        raise ValidationError({"palette": exc.messages}) from exc  # the palette's are bare


@extend_schema_view(
    list=extend_schema(summary="List brand kits"),
    retrieve=extend_schema(summary="A brand kit with its fonts and logos"),
    create=extend_schema(summary="Create a brand kit (admin)"),
    partial_update=extend_schema(summary="Change a brand kit (admin); its version goes up"),
    update=extend_schema(summary="Replace a brand kit's fields (admin)"),
    destroy=extend_schema(summary="Delete a brand kit with its fonts and logos (admin)",
                          description="Refused (400) while a campaign uses the brand kit."),
)
class BrandKitViewSet(WorkspaceScoped, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                      viewsets.GenericViewSet):
    serializer_class = BrandKitSerializer
    lookup_url_kwarg = "brand_id"
    actions = {"create": "brand.edit", "update": "brand.edit", "partial_update": "brand.edit",
               "destroy": "brand.edit", "fonts": "brand.edit", "logos": "brand.edit"}

    def get_queryset(self):
        return (BrandKit.objects.filter(workspace=self.workspace)
                .prefetch_related("fonts", "logos").order_by("name"))

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        brand = _save_brand(workspace=self.workspace, user=request.user,
                            **serializer.validated_data)
        return Response(self.get_serializer(brand).data, status=status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        brand = self.get_object()
        serializer = self.get_serializer(brand, data=request.data,
                                         partial=kwargs.get("partial", False))
        serializer.is_valid(raise_exception=True)
        brand = _save_brand(workspace=self.workspace, user=request.user, brand=brand,
                            **serializer.validated_data)
        return Response(self.get_serializer(self.get_queryset().get(pk=brand.pk)).data)

    def partial_update(self, request, *args, **kwargs):
        return self.update(request, *args, partial=True, **kwargs)

    def destroy(self, request, *args, **kwargs):
        brand_services.brand_kit_delete(brand=self.get_object(), user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(summary="Download a logo file: a redirect to a signed link that expires",
                   responses={302: FILE_REDIRECT})
    @action(detail=True, methods=["get"], url_path="logos/<id:logo_id>/file",
            url_name="logo-file")
    def logo_file(self, request, *args, logo_id: int, **kwargs):
        brand = self.get_object()  # the workspace and permission checks come first
        logo = get_object_or_404(BrandLogo, pk=logo_id, brand=brand)
        extension = logo.file.name.rsplit(".", 1)[-1]
        return file_redirect(logo.file.name, filename=f"logo-{logo.pk}.{extension}")

    @extend_schema(summary="Upload a font (TTF/OTF, checked with fontTools)",
                   request=FontUploadSerializer, responses={201: BrandFontSerializer})
    @action(detail=True, methods=["post"], parser_classes=UPLOAD_PARSERS)
    def fonts(self, request, *args, **kwargs):
        brand = self.get_object()
        upload = FontUploadSerializer(data=request.data)
        upload.is_valid(raise_exception=True)
        font = brand_services.brand_font_add(brand=brand, user=request.user,
                                             uploaded=upload.validated_data["file"])
        return Response(BrandFontSerializer(font).data, status=status.HTTP_201_CREATED)

    @extend_schema(summary="Upload a logo (PNG/WebP with transparency)",
                   request=LogoUploadSerializer, responses={201: BrandLogoSerializer})
    @action(detail=True, methods=["post"], parser_classes=UPLOAD_PARSERS)
    def logos(self, request, *args, **kwargs):
        brand = self.get_object()
        upload = LogoUploadSerializer(data=request.data)
        upload.is_valid(raise_exception=True)
        logo = brand_services.brand_logo_add(brand=brand, user=request.user,
                                             uploaded=upload.validated_data["file"],
                                             name=upload.validated_data.get("name", ""))
        return Response(BrandLogoSerializer(logo).data, status=status.HTTP_201_CREATED)


def _product_data(raw: dict):
    try:
        return clean_product_data(raw)
    except ProductFieldErrors as exc:
        raise ValidationError(exc.errors) from exc


@extend_schema_view(
    list=extend_schema(summary="List and search products", parameters=[
        text_parameter("q", "Name or SKU contains"),
        text_parameter("sku", "Exactly this SKU"),
        text_parameter("currency", "ISO 4217 code", max_length=3),
    ]),
    retrieve=extend_schema(summary="A product"),
    create=extend_schema(summary="Create a product", request=ProductInputSerializer,
                         responses={201: ProductSerializer}),
    partial_update=extend_schema(summary="Change a product (the fields sent)",
                                 request=ProductInputSerializer,
                                 responses={200: ProductSerializer}),
    destroy=extend_schema(summary="Delete a product with its photos and its campaign slots",
                          description="Refused (400) while a campaign has assets of it."),
)
class ProductViewSet(WorkspaceScoped, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                     viewsets.GenericViewSet):
    serializer_class = ProductSerializer
    lookup_url_kwarg = "product_id"
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    actions = {"create": "product.edit", "partial_update": "product.edit",
               "destroy": "product.edit", "photos": "product.edit",
               "feed_import": "product.import"}

    def get_queryset(self):
        products = Product.objects.filter(workspace=self.workspace).prefetch_related("photos")
        q, sku = query_text(self.request, "q"), query_text(self.request, "sku")
        currency = query_text(self.request, "currency", max_length=3)
        if q:
            products = products.filter(Q(name__icontains=q) | Q(sku__icontains=q))
        if sku:
            products = products.filter(sku=sku)
        if currency:
            products = products.filter(currency=currency.upper())
        return products

    def create(self, request, *args, **kwargs):
        raw = ProductInputSerializer(data=request.data)
        raw.is_valid(raise_exception=True)
        data = _product_data(raw.validated_data)
        if Product.objects.filter(workspace=self.workspace, sku=data.sku).exists():
            raise ValidationError({"sku": [f"A product with SKU {data.sku} already exists."]})
        product = brand_services.product_save(workspace=self.workspace, user=request.user,
                                              data=data)
        return Response(self.get_serializer(product).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request, *args, **kwargs):
        product = self.get_object()
        raw = ProductInputSerializer(data=request.data, partial=True)
        raw.is_valid(raise_exception=True)
        current = {field: getattr(product, field) for field in ProductInputSerializer().fields}
        current["price"] = str(current["price"])
        data = _product_data({**current, **raw.validated_data})
        if data.sku != product.sku and Product.objects.filter(
                workspace=self.workspace, sku=data.sku).exists():
            raise ValidationError({"sku": [f"A product with SKU {data.sku} already exists."]})
        product = brand_services.product_save(workspace=self.workspace, user=request.user,
                                              product=product, data=data)
        return Response(self.get_serializer(product).data)

    def destroy(self, request, *args, **kwargs):
        brand_services.product_delete(product=self.get_object(), user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(summary="Upload a product photo", request=PhotoUploadSerializer,
                   description="Its cut-out is made in the background: `cutout_url` is null "
                               "until it is.",
                   responses={201: ProductPhotoSerializer})
    @action(detail=True, methods=["post"], parser_classes=UPLOAD_PARSERS)
    def photos(self, request, *args, **kwargs):
        product = self.get_object()
        upload = PhotoUploadSerializer(data=request.data)
        upload.is_valid(raise_exception=True)
        photo = brand_services.product_photo_add(product=product, user=request.user,
                                                 uploaded=upload.validated_data["file"])
        return Response(ProductPhotoSerializer(photo, context=self.get_serializer_context()).data,
                        status=status.HTTP_201_CREATED)

    def _photo(self, photo_id: int) -> ProductPhoto:
        product = self.get_object()  # the workspace and permission checks come first
        return get_object_or_404(ProductPhoto, pk=photo_id, product=product)

    @extend_schema(summary="Download a product photo: a redirect to a signed link that expires",
                   responses={302: FILE_REDIRECT})
    @action(detail=True, methods=["get"], url_path="photos/<id:photo_id>/file",
            url_name="photo-file")
    def photo_file(self, request, *args, photo_id: int, **kwargs):
        photo = self._photo(photo_id)
        extension = photo.file.name.rsplit(".", 1)[-1]
        return file_redirect(photo.file.name, filename=f"photo-{photo.pk}.{extension}")

    @extend_schema(summary="Download a photo's cut-out (RGBA PNG): a redirect to a signed link",
                   description="404 while the photo has no cut-out.",
                   responses={302: FILE_REDIRECT})
    @action(detail=True, methods=["get"], url_path="photos/<id:photo_id>/cutout",
            url_name="photo-cutout")
    def photo_cutout(self, request, *args, photo_id: int, **kwargs):
        photo = self._photo(photo_id)
        if not photo.cutout:
            raise Http404("This photo has no cut-out yet.")
        return file_redirect(photo.cutout.name, filename=f"cutout-{photo.pk}.png")

    @extend_schema(
        summary="Import a CSV feed (Merchant Center columns) as a job; returns the import",
        description="Stores the file and queues its import (202): poll "
                    "`products/imports/{id}/` until `status` is succeeded, failed or "
                    "cancelled. Creates or updates products by SKU. Good rows are kept; "
                    "`errors` lists every rejected row and why. `fatal_error` is set when "
                    "the file could not be read at all.",
        request=FeedUploadSerializer, responses={202: FeedImportSerializer})
    @action(detail=False, methods=["post"], url_path="import", parser_classes=UPLOAD_PARSERS)
    def feed_import(self, request, *args, **kwargs):
        upload = FeedUploadSerializer(data=request.data)
        upload.is_valid(raise_exception=True)
        uploaded = upload.validated_data["file"]
        if not uploaded.name.lower().endswith((".csv", ".tsv", ".txt")):
            raise ValidationError({"file": ["Upload a .csv file (Merchant Center column names)."]})
        report = feed_sources.feed_upload_import(workspace=self.workspace, user=request.user,
                                                 uploaded=uploaded)
        return Response(FeedImportSerializer(report).data, status=status.HTTP_202_ACCEPTED)


@extend_schema_view(
    list=extend_schema(summary="List prompt templates", parameters=[
        choice_parameter("kind", AssetKind.values)]),
    retrieve=extend_schema(summary="A prompt template"),
    create=extend_schema(summary="Create a prompt template (checked when saved)"),
    update=extend_schema(summary="Replace a template; a new body is a new version"),
    partial_update=extend_schema(summary="Change a template; a new body is a new version"),
    destroy=extend_schema(summary="Delete a template with its revisions",
                          description="Refused (400) while a campaign has chosen it."),
)
class PromptTemplateViewSet(WorkspaceScoped, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                            viewsets.GenericViewSet):
    serializer_class = PromptTemplateSerializer
    lookup_url_kwarg = "template_id"
    actions = {"create": "template.edit", "update": "template.edit",
               "partial_update": "template.edit", "destroy": "template.edit",
               "background_image": "template.edit"}

    def get_queryset(self):
        templates = PromptTemplate.objects.filter(workspace=self.workspace)
        kind = query_choice(self.request, "kind", AssetKind.values)
        if kind:
            templates = templates.filter(kind=kind)
        return templates

    def _save(self, serializer, template=None):
        data = serializer.validated_data
        values = {"name": data.get("name", template and template.name),
                  "kind": data.get("kind", template and template.kind),
                  "body": data.get("body", template and template.body),
                  "negative_prompt": data.get("negative_prompt",
                                              template.negative_prompt if template else ""),
                  "brand": data.get("brand", template and template.brand),
                  "background": data.get("background", template.background if template
                                         else Background.PICTURE)}
        # The copy lines and who draws them: what a PATCH leaves out stays as it is.
        defaults = {"text_mode": "native", "headline": "", "subline": "", "cta": "",
                    "show_price": False}
        values |= {field: data.get(field, getattr(template, field) if template else default)
                   for field, default in defaults.items()}
        try:
            return rendering_templates.prompt_template_save(
                workspace=self.workspace, user=self.request.user, template=template, **values)
        except ValidationError as exc:
            if hasattr(exc, "error_dict"):  # the service names the field (headline, ...)
                raise
            raise ValidationError({"body": exc.messages}) from exc

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        template = self._save(serializer)
        return Response(self.get_serializer(template).data, status=status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        template = self.get_object()
        serializer = self.get_serializer(template, data=request.data,
                                         partial=kwargs.get("partial", False))
        serializer.is_valid(raise_exception=True)
        return Response(self.get_serializer(self._save(serializer, template)).data)

    def partial_update(self, request, *args, **kwargs):
        return self.update(request, *args, partial=True, **kwargs)

    def destroy(self, request, *args, **kwargs):
        rendering_templates.prompt_template_delete(template=self.get_object(), user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(summary="Upload the picture under an image template's layers (PNG, JPEG or "
                           "WebP; a new version: its ads go stale and are recomposed)",
                   request=PhotoUploadSerializer, responses={200: PromptTemplateSerializer})
    @action(detail=True, methods=["post"], parser_classes=UPLOAD_PARSERS,
            url_path="background-image")
    def background_image(self, request, *args, **kwargs):
        template = self.get_object()
        upload = PhotoUploadSerializer(data=request.data)
        upload.is_valid(raise_exception=True)
        template = rendering_templates.prompt_template_background_set(
            template=template, user=request.user, upload=upload.validated_data["file"])
        return Response(self.get_serializer(template).data)

    @extend_schema(summary="The exact prompt this template gives for a product",
                   request=PreviewInputSerializer, responses={200: ComposedPromptSerializer})
    @action(detail=True, methods=["post"])
    def preview(self, request, *args, **kwargs):
        template = self.get_object()
        params = PreviewInputSerializer(data=request.data, context=self.get_serializer_context())
        params.is_valid(raise_exception=True)
        composed = compose_prompt(template=template, **params.validated_data)
        return Response(ComposedPromptSerializer(composed).data)

    @extend_schema(summary="Preview an unsaved template body for a product",
                   operation_id="templates_preview_unsaved",
                   request=UnsavedPreviewInputSerializer,
                   responses={200: ComposedPromptSerializer})
    @action(detail=False, methods=["post"], url_path="preview")
    def preview_unsaved(self, request, *args, **kwargs):
        params = UnsavedPreviewInputSerializer(data=request.data,
                                                 context=self.get_serializer_context())
        params.is_valid(raise_exception=True)
        try:
            composed = prompt_preview(workspace=self.workspace, **params.validated_data)
        except ValidationError as exc:
            raise ValidationError({"body": exc.messages}) from exc
        return Response(ComposedPromptSerializer(composed).data)


@extend_schema_view(
    list=extend_schema(summary="Channel presets and this workspace's custom formats"),
    retrieve=extend_schema(summary="A format"),
    create=extend_schema(summary="Add a custom format (16 to 10000 px a side)"),
)
class FormatViewSet(WorkspaceScoped, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                    viewsets.GenericViewSet):
    serializer_class = FormatSerializer
    lookup_url_kwarg = "format_id"
    actions = {"create": "campaign.edit"}

    def get_queryset(self):
        return Format.objects.filter(Q(workspace=None) | Q(workspace=self.workspace))

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        fmt = rendering_templates.format_create(
            workspace=self.workspace, user=request.user, name=data["name"], width=data["width"],
            height=data["height"], kind=data["kind"], channel=data.get("channel") or "Custom")
        return Response(self.get_serializer(fmt).data, status=status.HTTP_201_CREATED)


