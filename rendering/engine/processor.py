"""The edit pipelines' Qwen2-VL processor, made without torchvision (its video half needs
it): used to load the real edit model and to build the tiny one."""

from __future__ import annotations

from functools import cache


@cache
def _image_only_processor_class():
    # Defined on first use: importing transformers' processors takes seconds.
    from transformers import Qwen2VLProcessor
    from transformers.processing_utils import ProcessorMixin

    class ImageOnlyQwen2VLProcessor(Qwen2VLProcessor):
        """Qwen2-VL's processor without its video half.

        ``Qwen2VLProcessor.__init__`` checks every part's class against transformers' base
        classes, and the video processor's base class only exists with torchvision installed,
        so the plain class cannot be constructed without torchvision, even with no video
        processor. The edit pipelines pass only images and text: this declares those two parts.
        """

        def __init__(self, image_processor=None, tokenizer=None, chat_template=None, **kwargs):
            self.image_token = "<|image_pad|>"
            self.video_token = "<|video_pad|>"
            self.image_token_id = tokenizer.convert_tokens_to_ids(self.image_token)
            self.video_token_id = tokenizer.convert_tokens_to_ids(self.video_token)
            ProcessorMixin.__init__(self, image_processor, tokenizer, chat_template=chat_template)

    return ImageOnlyQwen2VLProcessor


def build_edit_processor(*, image_processor, tokenizer):
    """A ``Qwen2VLProcessor`` (a subclass of it) made of an image processor and a tokenizer,
    which works without torchvision."""
    return _image_only_processor_class()(image_processor=image_processor, tokenizer=tokenizer)
