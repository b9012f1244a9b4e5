"""Dashboard pages for the workspace, brand kits and products. Thin: parse, check, call."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Prefetch, Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from brands import services
from brands.access import can, workspace_view
from brands.cutouts import method_label, photo_cutout_replace
from brands.feed_sources import feed_upload_import
from brands.forms import (
    BrandKitForm,
    CutoutUploadForm,
    FeedImportForm,
    FontUploadForm,
    LogoUploadForm,
    PhotoUploadForm,
    ProductForm,
)
from brands.models import BrandKit, BrandLogo, FeedImport, Membership, Product, ProductPhoto
from brands.palette import palette_contrasts
from brands.selectors import brand_logo_primary
from brands.uploads import UploadRejected
from core.confirm import delete_confirmed
from core.files import file_redirect

PAGE_SIZE = 50


@login_required
def home(request):
    memberships = Membership.objects.filter(user=request.user).select_related("workspace")
    if len(memberships) == 1:
        return redirect("workspace", ws=memberships[0].workspace.slug)
    return render(request, "brands/home.html", {"memberships": memberships})


@workspace_view("workspace.view")
def brand_list(request, membership):
    brands = membership.workspace.brand_kits.prefetch_related("logos", "fonts")
    return render(request, "brands/brand_list.html", {"brands": brands})


def _brand_page(request, membership, brand, form, status=200, **upload_forms):
    primary = brand_logo_primary(brand) if brand else None
    context = {
        "brand": brand, "form": form, "can_edit": can(membership, "brand.edit"),
        "font_form": FontUploadForm(), "logo_form": LogoUploadForm(),
        "logos": brand.logos.order_by("-is_primary", "id") if brand else [],
        "fonts": brand.fonts.order_by("id") if brand else [],
        "primary_logo_id": primary.pk if primary else None,
        "palette_rows": palette_contrasts(brand.palette) if brand else [],
    }
    context.update(upload_forms)
    return render(request, "brands/brand_form.html", context, status=status)


@workspace_view("workspace.view")
def brand_edit(request, membership, brand_id=None):
    workspace = membership.workspace
    brand = get_object_or_404(BrandKit, pk=brand_id, workspace=workspace) if brand_id else None
    if request.method != "POST":
        initial = BrandKitForm.initial_for(brand) if brand else {}
        return _brand_page(request, membership, brand, BrandKitForm(initial=initial))
    if not can(membership, "brand.edit"):
        return _brand_page(request, membership, brand, BrandKitForm(), status=403)
    form = BrandKitForm(request.POST)
    if form.is_valid():
        try:
            brand = services.brand_kit_save(workspace=workspace, user=request.user, brand=brand,
                                            **form.cleaned_data)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, f"Saved {brand.name} (version {brand.version}).")
            return redirect("brand-edit", ws=workspace.slug, brand_id=brand.pk)
    return _brand_page(request, membership, brand, form, status=400)


@require_POST
@workspace_view("brand.edit")
def brand_upload(request, membership, brand_id, what):
    brand = get_object_or_404(BrandKit, pk=brand_id, workspace=membership.workspace)
    form_class = FontUploadForm if what == "font" else LogoUploadForm
    form = form_class(request.POST, request.FILES)
    if form.is_valid():
        try:
            if what == "font":
                services.brand_font_add(brand=brand, user=request.user,
                                        uploaded=form.cleaned_data["file"])
            else:
                services.brand_logo_add(brand=brand, user=request.user,
                                        uploaded=form.cleaned_data["file"],
                                        name=form.cleaned_data["name"])
        except UploadRejected as exc:
            form.add_error("file", exc.message)
        else:
            messages.success(request, f"Added the {what}.")
            return redirect("brand-edit", ws=membership.workspace.slug, brand_id=brand.pk)
    brand_form = BrandKitForm(initial=BrandKitForm.initial_for(brand))
    return _brand_page(request, membership, brand, brand_form, status=400,
                       **{f"{what}_form": form})


@require_POST
@workspace_view("brand.edit")
def brand_delete(request, membership, brand_id):
    brand = get_object_or_404(BrandKit, pk=brand_id, workspace=membership.workspace)
    ws = membership.workspace.slug
    return delete_confirmed(
        request, delete=lambda: services.brand_kit_delete(brand=brand, user=request.user),
        back=reverse("brand-edit", kwargs={"ws": ws, "brand_id": brand.pk}),
        done=reverse("brand-list", kwargs={"ws": ws}),
        message=f"Deleted the brand kit {brand.name}.")


@workspace_view("workspace.view")
def brand_logo_file(request, membership, logo_id):
    logo = get_object_or_404(BrandLogo, pk=logo_id, brand__workspace=membership.workspace)
    return file_redirect(logo.file.name)


@workspace_view("workspace.view")
def product_list(request, membership):
    products = membership.workspace.products.prefetch_related(
        Prefetch("photos", queryset=ProductPhoto.objects.order_by("pk")))
    query = request.GET.get("q", "").strip()
    if query:
        products = products.filter(Q(name__icontains=query) | Q(sku__icontains=query))
    page = Paginator(products, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "brands/product_list.html", {
        "page": page, "query": query, "can_edit": can(membership, "product.edit"),
    })


@workspace_view("workspace.view")
def product_edit(request, membership, product_id=None):
    workspace = membership.workspace
    product = (get_object_or_404(Product, pk=product_id, workspace=workspace)
               if product_id else None)
    status = 200
    if request.method == "POST":
        if not can(membership, "product.edit"):
            form, status = ProductForm(request.POST), 403
        else:
            form = ProductForm(request.POST)
            if form.is_valid():
                try:
                    product = services.product_save(
                        workspace=workspace, user=request.user, product=product,
                        data=form.cleaned_data["data"])
                except ValidationError as exc:
                    form.add_error(None, exc)
                else:
                    messages.success(request, f"Saved {product.name}.")
                    return redirect("product-edit", ws=workspace.slug, product_id=product.pk)
            status = 400
    else:
        form = ProductForm(initial=ProductForm.initial_for(product) if product else None)
    return _product_page(request, membership, product, form, status=status)


def _product_page(request, membership, product, form, *, status=200, photo_form=None,
                  cutout_form=None):
    """The product page: its form, and each photo with its cut-out (``cutout_form``: the
    bound form of the photo whose replacement was refused, to show its error)."""
    photos = list(product.photos.order_by("pk")) if product else []
    for photo in photos:
        photo.cutout_method_label = method_label(photo.cutout_method)
        photo.cutout_form = (
            cutout_form if cutout_form is not None and cutout_form.prefix == f"cutout-{photo.pk}"
            else CutoutUploadForm.for_photo(photo)
        )
    return render(request, "brands/product_form.html", {
        "product": product, "form": form, "photo_form": photo_form or PhotoUploadForm(),
        "photos": photos, "can_edit": can(membership, "product.edit"),
    }, status=status)


@require_POST
@workspace_view("product.edit")
def product_delete(request, membership, product_id):
    product = get_object_or_404(Product, pk=product_id, workspace=membership.workspace)
    ws = membership.workspace.slug
    return delete_confirmed(
        request, delete=lambda: services.product_delete(product=product, user=request.user),
        back=reverse("product-edit", kwargs={"ws": ws, "product_id": product.pk}),
        done=reverse("product-list", kwargs={"ws": ws}),
        message=f"Deleted the product {product.name} ({product.sku}).")


@require_POST
@workspace_view("product.edit")
def product_photo_upload(request, membership, product_id):
    product = get_object_or_404(Product, pk=product_id, workspace=membership.workspace)
    form = PhotoUploadForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            services.product_photo_add(product=product, user=request.user,
                                       uploaded=form.cleaned_data["file"])
        except UploadRejected as exc:
            form.add_error("file", exc.message)
        else:
            messages.success(request, "Added the photo; its cut-out is being made.")
            return redirect("product-edit", ws=membership.workspace.slug, product_id=product.pk)
    return _product_page(request, membership, product,
                         ProductForm(initial=ProductForm.initial_for(product)), status=400,
                         photo_form=form)


def _product_photo(membership, product_id: int, photo_id: int) -> ProductPhoto:
    return get_object_or_404(ProductPhoto.objects.select_related("product"), pk=photo_id,
                             product_id=product_id, product__workspace=membership.workspace)


@workspace_view("workspace.view")
def product_photo_file(request, membership, product_id, photo_id, variant):
    """The photo or its cut-out: a redirect to a signed link that expires."""
    photo = _product_photo(membership, product_id, photo_id)
    name = photo.file.name if variant == "photo" else photo.cutout.name
    if not name:
        raise Http404("This photo has no cut-out yet.")
    return file_redirect(name)


@require_POST
@workspace_view("product.edit")
def product_photo_cutout_replace(request, membership, product_id, photo_id):
    """Replace a photo's cut-out with one the user made (a PNG with transparency)."""
    photo = _product_photo(membership, product_id, photo_id)
    form = CutoutUploadForm.for_photo(photo, request.POST, request.FILES)
    if form.is_valid():
        try:
            photo_cutout_replace(photo=photo, upload=form.cleaned_data["file"],
                                 user=request.user)
        except ValidationError as exc:
            form.add_error("file", exc)
        else:
            messages.success(request, "Replaced the cut-out.")
            return redirect("product-edit", ws=membership.workspace.slug,
                            product_id=photo.product_id)
    return _product_page(request, membership, photo.product,
                         ProductForm(initial=ProductForm.initial_for(photo.product)),
                         status=400, cutout_form=form)


@workspace_view("product.import")
def feed_import(request, membership):
    form = FeedImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:  # stored, then imported by a cpu worker: the report page shows its progress
            report = feed_upload_import(workspace=membership.workspace, user=request.user,
                                        uploaded=form.cleaned_data["file"])
        except UploadRejected as exc:
            form.add_error("file", exc.message)
        else:
            return redirect("feed-import-report", ws=membership.workspace.slug,
                            import_id=report.pk)
    status = 400 if request.method == "POST" else 200
    imports = membership.workspace.feed_imports.filter(source=None)[:10]
    return render(request, "brands/feed_import.html", {"form": form, "imports": imports},
                  status=status)


@workspace_view("workspace.view")
def feed_import_report(request, membership, import_id):
    report = get_object_or_404(FeedImport.objects.select_related("source"), pk=import_id,
                               workspace=membership.workspace)
    return render(request, "brands/feed_import_report.html", {
        "report": report, "can_edit": can(membership, "product.import")})
